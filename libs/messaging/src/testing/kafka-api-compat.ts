/*
 * Which protocol version kafkajs would use for each API against a broker, and whether the broker
 * still accepts it (Kafka 4.0 removed old versions, KIP-896). kafkajs picks
 * min(its newest implemented version, broker max) and never checks the broker's minimum.
 *   node -r @swc-node/register libs/messaging/src/testing/kafka-api-compat.ts 127.0.0.1:9092
 */
import { Socket } from 'node:net';
import { requests } from 'kafkajs/src/protocol/requests/index.js';

function apiVersions(hostPort: string): Promise<Map<number, { min: number; max: number }>> {
  const [host, port] = hostPort.split(':');
  const clientId = Buffer.from('api-compat');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2); // v0: understood by every broker
  body.writeInt32BE(1, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      // No setEncoding: always a Buffer (@types/node 26 types a 'data' chunk as string | Buffer).
      buf = Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      socket.destroy();
      const error = buf.readInt16BE(8);
      if (error !== 0) return reject(new Error(`ApiVersions error ${error}`));
      const n = buf.readInt32BE(10);
      const out = new Map<number, { min: number; max: number }>();
      for (let i = 0, o = 14; i < n; i++, o += 6) out.set(buf.readInt16BE(o), { min: buf.readInt16BE(o + 2), max: buf.readInt16BE(o + 4) });
      resolve(out);
    });
    socket.connect(Number(port), host, () => socket.write(Buffer.concat([size, body])));
  });
}

// API keys kafkajs sends in Flowline's use (producer, consumer group, admin).
const USED: Record<string, number> = {
  Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, OffsetFetch: 9, GroupCoordinator: 10,
  JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14, DescribeGroups: 15, ListGroups: 16,
  ApiVersions: 18, CreateTopics: 19, DeleteTopics: 20, InitProducerId: 22, DescribeConfigs: 32, CreatePartitions: 37, DeleteGroups: 42,
};

async function main() {
  const broker = process.argv[2] ?? '127.0.0.1:9092';
  const versions = await apiVersions(broker);
  let ok = true;
  console.log(`broker ${broker}`);
  console.log('api               kafkajs  broker   used  ok');
  for (const [name, key] of Object.entries(USED)) {
    const impl = (requests as Record<string, { versions: string[] }>)[name].versions.map(Number);
    const b = versions.get(key);
    const used = b ? Math.min(Math.max(...impl), b.max) : NaN;
    const fine = !!b && used >= b.min && impl.includes(used);
    ok &&= fine;
    console.log(`${name.padEnd(17)} ${`${Math.min(...impl)}-${Math.max(...impl)}`.padEnd(8)} ${b ? `${b.min}-${b.max}`.padEnd(8) : 'absent  '} ${String(used).padEnd(5)} ${fine ? 'yes' : 'NO'}`);
  }
  console.log(ok ? 'every API kafkajs uses has a version the broker accepts' : 'SOME APIs would be sent in a version the broker rejects');
  process.exit(ok ? 0 : 1);
}

void main();
