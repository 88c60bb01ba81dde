import { eventStoreContract } from '../testing/event-store-contract';
import { InMemoryEventStore } from './in-memory-event-store';

eventStoreContract('in-memory', async () => {
  const store = new InMemoryEventStore({ pollIntervalMs: 20 });
  return { store, dispose: () => store.close() };
});
