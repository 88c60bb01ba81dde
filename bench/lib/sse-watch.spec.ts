import { describe, expect, it } from 'vitest';
import { SseParser } from './sse-watch';

describe('SseParser', () => {
  it('emits one (event, data) per blank-line-terminated block, across chunk boundaries', () => {
    const got: [string, string][] = [];
    const p = new SseParser();
    p.push('event: order\ndata: {"a":', (e, d) => got.push([e, d]));
    p.push('1}\nid: x:1\n\nevent: ping\ndata: \n\ndata: plain\r\n\r\n', (e, d) => got.push([e, d]));
    expect(got).toEqual([
      ['order', '{"a":1}'],
      ['ping', ''],
      ['message', 'plain'],
    ]);
  });

  it('joins multi-line data with newlines', () => {
    const got: string[] = [];
    new SseParser().push('data: one\ndata: two\n\n', (_, d) => got.push(d));
    expect(got).toEqual(['one\ntwo']);
  });
});
