import { describe, expect, it } from 'vitest';
import { KEYED_GENERIC_PLANS_SQL } from '@flowline/eventstore';
import { commitWithTail, deferSqlToCommit, deferToCommit, dropCommitTail, openCommitTail } from './commit-tail';

/** KEYED_GENERIC_PLANS_SQL as a regular expression source. */
const GENERIC = KEYED_GENERIC_PLANS_SQL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function recordingClient(fail?: Error) {
  const sent: string[] = [];
  return {
    sent,
    query: async (text: string) => {
      sent.push(text);
      if (fail) throw fail;
      return { rows: [], rowCount: 0 } as never;
    },
  };
}

describe('commit tail', () => {
  it('passes parameters to EXECUTE as literals: strings escaped, numbers quoted, booleans and null as keywords, objects as JSON', async () => {
    const client = recordingClient();
    openCommitTail(client);
    deferToCommit(client, 'VALUES ($1, $2, $3, $4, $5, $6)', ["O'Brien \\ x", 12.5, true, null, { a: "it's" }, 7]);
    await commitWithTail(client);
    expect(client.sent[0]).toMatch(/\nEXECUTE flowline_esb_\w+\( E'O''Brien \\\\ x', '12\.5', TRUE, NULL, '\{"a":"it''s"\}', '7'\);\nCOMMIT$/);
  });

  it('refuses a number that is not finite and a NUL, before anything is sent', () => {
    const client = recordingClient();
    openCommitTail(client);
    expect(() => deferToCommit(client, 'SELECT $1', [Number.NaN])).toThrow(RangeError);
    // U+0000 inside a simple query breaks its protocol message (08P01, a "connection" error): a content error instead.
    expect(() => deferToCommit(client, 'SELECT $1', ['JD-\u0000-1'])).toThrow(/NUL character/);
    dropCommitTail(client);
    expect(client.sent).toEqual([]);
  });

  it('without an open tail nothing is deferred (the writer runs its statement at once)', () => {
    const client = recordingClient();
    expect(deferToCommit(client, 'INSERT INTO t VALUES ($1)', [1])).toBe(false);
  });

  it('sends the deferred statements, then the last ones, then COMMIT, in one round trip: each prepared on the connection once, then only executed with literals', async () => {
    const client = recordingClient();
    openCommitTail(client);
    expect(deferToCommit(client, 'INSERT INTO a VALUES ($1)', ["O'x"])).toBe(true);
    await commitWithTail(client, [{ text: 'INSERT INTO b VALUES ($1, $2)', params: [2, null] }]);
    expect(client.sent).toHaveLength(1);
    const first = client.sent[0].split(';\n');
    expect(first).toHaveLength(6);
    const [generic, prepareA, executeA, prepareB, executeB, commit] = first;
    // The whole tail runs on generic plans (settings local to the transaction: until the COMMIT).
    expect(generic).toBe(KEYED_GENERIC_PLANS_SQL);
    const a = /^PREPARE (flowline_esb_\w+) AS INSERT INTO a VALUES \(\$1\)$/.exec(prepareA)?.[1];
    const b = /^PREPARE (flowline_esb_\w+) AS INSERT INTO b VALUES \(\$1, \$2\)$/.exec(prepareB)?.[1];
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(executeA).toBe(`EXECUTE ${a}('O''x')`);
    expect(executeB).toBe(`EXECUTE ${b}('2', NULL)`);
    expect(commit).toBe('COMMIT');
    // The tail ended with the commit.
    expect(deferToCommit(client, 'INSERT INTO a VALUES ($1)', ['y'])).toBe(false);
    // The next transaction on this connection only executes them.
    openCommitTail(client);
    deferToCommit(client, 'INSERT INTO a VALUES ($1)', ['y']);
    await commitWithTail(client, [{ text: 'INSERT INTO b VALUES ($1, $2)', params: [3, true] }]);
    expect(client.sent[1]).toBe(`${KEYED_GENERIC_PLANS_SQL};\nEXECUTE ${a}('y');\nEXECUTE ${b}('3', TRUE);\nCOMMIT`);
    // On another connection they are prepared again.
    const other = recordingClient();
    openCommitTail(other);
    deferToCommit(other, 'INSERT INTO a VALUES ($1)', ['z']);
    await commitWithTail(other);
    expect(other.sent[0]).toMatch(new RegExp(`^${GENERIC};\\nPREPARE flowline_esb_\\w+ AS INSERT INTO a VALUES \\(\\$1\\);\\nEXECUTE flowline_esb_\\w+\\('z'\\);\\nCOMMIT$`));
  });

  it('a round trip that failed leaves its PREPAREs unconfirmed: the next one prepares under a fresh name (the failed one may or may not have run it)', async () => {
    const client = recordingClient(new Error('connection reset'));
    openCommitTail(client);
    deferToCommit(client, 'INSERT INTO c VALUES ($1)', ['x']);
    await expect(commitWithTail(client)).rejects.toThrow('connection reset');
    const name = (sql: string) => /PREPARE (\w+)/.exec(sql)?.[1];
    const failed = name(client.sent[0]);
    const ok = recordingClient();
    // Same client object, now answering.
    Object.assign(client, { query: ok.query });
    openCommitTail(client);
    deferToCommit(client, 'INSERT INTO c VALUES ($1)', ['x']);
    await commitWithTail(client);
    expect(failed).toBeDefined();
    expect(name(ok.sent[0])).toBeDefined();
    expect(name(ok.sent[0])).not.toBe(failed);
  });

  it('plain SQL goes first-come as written (no $n replaced), and gets its own result once the COMMIT succeeded', async () => {
    const sent: string[] = [];
    const client = {
      query: async (text: string) => (sent.push(text), [{ rows: [] }, { rows: [{ n: 'first' }] }, { rows: [{ n: 'second' }] }, { rows: [] }] as never),
    };
    openCommitTail(client);
    const got: unknown[] = [];
    expect(deferSqlToCommit(client, `INSERT INTO e SELECT '$1 is data'`, undefined, (r) => got.push(r.rows[0]))).toBe(true);
    deferToCommit(client, 'INSERT INTO s VALUES ($1)', ['x']);
    await commitWithTail(client);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(new RegExp(`^${GENERIC};\\nINSERT INTO e SELECT '\\$1 is data';\\nPREPARE (flowline_esb_\\w+) AS INSERT INTO s VALUES \\(\\$1\\);\\nEXECUTE \\1\\('x'\\);\\nCOMMIT$`));
    expect(got).toEqual([{ n: 'first' }]);
    // Not called when the round trip fails; the statement's translator names the error.
    const failing = recordingClient(Object.assign(new Error('duplicate key'), { code: '23505' }));
    openCommitTail(failing);
    const called: unknown[] = [];
    deferSqlToCommit(failing, 'INSERT INTO e SELECT 1', () => new Error('exists'), (r) => called.push(r));
    await expect(commitWithTail(failing)).rejects.toThrow('exists');
    expect(called).toEqual([]);
    expect(deferSqlToCommit(recordingClient(), 'SELECT 1')).toBe(false);
  });

  it('a failed tail is reported as the error a deferred statement names, else as is', async () => {
    const conflict = Object.assign(new Error('duplicate key'), { code: '23505' });
    const client = recordingClient(conflict);
    openCommitTail(client);
    deferToCommit(client, 'INSERT INTO a VALUES ($1)', ['x'], (e) => ((e as { code?: string }).code === '23505' ? new Error('taken') : undefined));
    await expect(commitWithTail(client)).rejects.toThrow('taken');
    openCommitTail(client);
    deferToCommit(client, 'INSERT INTO a VALUES ($1)', ['x'], () => undefined);
    await expect(commitWithTail(client)).rejects.toBe(conflict);
    openCommitTail(client);
    dropCommitTail(client);
    expect(deferToCommit(client, 'SELECT 1', [])).toBe(false);
  });
});
