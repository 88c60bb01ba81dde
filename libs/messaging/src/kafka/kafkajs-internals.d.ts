// kafkajs ships no types for its internals; only what kafkajs-patch.ts touches is declared.
declare module 'kafkajs/src/network/requestQueue/index.js' {
  interface RequestQueueInternals {
    pending: unknown[];
    throttledUntil: number;
    throttleCheckTimeoutId: NodeJS.Timeout | null;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
  }
  const RequestQueue: { prototype: RequestQueueInternals };
  export default RequestQueue;
}

declare module 'kafkajs/src/protocol/requests/index.js' {
  export const requests: Record<string, { versions: string[] }>;
}

declare module 'kafkajs/src/consumer/consumerGroup.js' {
  /** Only the prototype's `fetch` is touched (adaptive-fetch.ts); the fields it switches are read by kafkajs on every fetch. */
  const ConsumerGroup: { prototype: { fetch(nodeId: number): Promise<{ messages: unknown[] }[]> } };
  export default ConsumerGroup;
}
