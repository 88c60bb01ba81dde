import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ForeignXids } from './postgres-event-store';

describe('ForeignXids (transaction ids known to belong to another database)', () => {
  it('remembers the ids a poll proved foreign and forgets those no longer in progress', () => {
    const known = new ForeignXids(new EventEmitter());
    const { epoch } = known.current();
    known.learn(epoch, ['100', '103', '105'], ['100', '105']);
    expect(known.current().ids.sort()).toEqual(['100', '105']);
    known.learn(epoch, ['105', '110'], null);
    expect(known.current().ids).toEqual(['105']);
  });

  it('forgets everything when the pool opens a new connection (a restarted or failed-over server may reuse ids)', () => {
    const pool = new EventEmitter();
    const known = new ForeignXids(pool);
    known.learn(known.current().epoch, ['7'], ['7']);
    pool.emit('connect', {});
    expect(known.current().ids).toEqual([]);
  });

  it('drops what a poll learned through a connection older than a connection opened meanwhile', () => {
    const pool = new EventEmitter();
    const known = new ForeignXids(pool);
    const before = known.current().epoch;
    pool.emit('connect', {}); // e.g. the server restarted while the poll ran on an old connection
    known.learn(before, ['7'], ['7']);
    expect(known.current().ids).toEqual([]);
  });
});
