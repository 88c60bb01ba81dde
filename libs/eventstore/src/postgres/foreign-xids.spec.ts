import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ForeignXids } from './postgres-event-store';

describe('ForeignXids (transaction ids known to belong to another database)', () => {
  it('remembers the ids a poll proved foreign and forgets those no longer in progress', () => {
    const known = new ForeignXids(new EventEmitter());
    const { epoch } = known.current(0, 2);
    known.learn(epoch, ['100', '103', '105'], ['100', '105'], 0);
    expect(known.current(0, 2).ids.sort()).toEqual(['100', '105']);
    known.learn(epoch, ['105', '110'], null, 1);
    expect(known.current(1, 2).ids).toEqual(['105']);
  });

  it('calls an in-progress id old (worth attributing) once it has been seen running for the given time', () => {
    const known = new ForeignXids(new EventEmitter());
    const { epoch } = known.current(0, 2);
    known.learn(epoch, ['100'], null, 10);
    expect(known.current(11, 2).old).toEqual([]);
    known.learn(epoch, ['100', '101'], null, 11);
    expect(known.current(12, 2).old).toEqual(['100']);
    known.learn(epoch, ['101'], null, 13); // 100 ended
    expect(known.current(13, 2).old).toEqual(['101']);
  });

  it('forgets everything when the pool opens a new connection (a restarted or failed-over server may reuse ids)', () => {
    const pool = new EventEmitter();
    const known = new ForeignXids(pool);
    known.learn(known.current(0, 2).epoch, ['7'], ['7'], 0);
    pool.emit('connect', {});
    expect(known.current(5, 2)).toMatchObject({ ids: [], old: [] });
  });

  it('drops the foreign ids a poll learned through a connection older than a connection opened meanwhile', () => {
    const pool = new EventEmitter();
    const known = new ForeignXids(pool);
    const before = known.current(0, 2).epoch;
    pool.emit('connect', {}); // e.g. the server restarted while the poll ran on an old connection
    known.learn(before, ['7'], ['7'], 0);
    expect(known.current(0, 2).ids).toEqual([]);
  });
});
