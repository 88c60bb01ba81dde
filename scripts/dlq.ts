/**
 * `npm run dlq -- list|show|redrive <topic> [--id <id>[,<id>...]] [--all] [--json]`
 *
 * Dead letters of `<topic>` (a logical topic such as `inventory.commands.v1`, or its `.dlq`):
 * - list: one line per dead letter: id (`<partition>:<offset>`), event id and type, attempts, reason.
 * - show: the whole dead letter(s) given by --id (or --all): headers, key, value.
 * - redrive: sends them (--id ... or --all) back to the topic they failed on with their original
 *   key and headers. Idempotent: consumers dedupe by event id, so a redrive applied twice counts once.
 * KAFKA_BROKERS and KAFKA_TOPIC_PREFIX as for the services. The same operations are served by every
 * service at /admin/dlq/<topic> (GET) and /admin/dlq/<topic>/redrive (POST).
 */
import { createKafka, EventPublisher, messagingConfigFromEnv, readDeadLetters, redriveDeadLetters, selectDeadLetters, TopicNames } from '@flowline/messaging';

interface Args {
  command: 'list' | 'show' | 'redrive';
  topic: string;
  ids: string[];
  all: boolean;
  json: boolean;
}

const USAGE = 'usage: npm run dlq -- list|show|redrive <topic> [--id <id>[,<id>...]] [--all] [--json]';

function parse(argv: string[]): Args {
  const [command, topic, ...rest] = argv;
  if (command !== 'list' && command !== 'show' && command !== 'redrive') throw new Error(USAGE);
  if (!topic) throw new Error(`${USAGE}\n(missing <topic>, e.g. inventory.commands.v1)`);
  const a: Args = { command, topic, ids: [], all: false, json: false };
  for (let i = 0; i < rest.length; i++) {
    const x = rest[i];
    if (x === '--all') a.all = true;
    else if (x === '--json') a.json = true;
    else if (x === '--id' || x.startsWith('--id=')) {
      const v = x.includes('=') ? x.slice(5) : rest[++i];
      if (!v) throw new Error('--id needs a value');
      a.ids.push(...v.split(',').map((s) => s.trim()).filter(Boolean));
    } else throw new Error(`unknown option ${x}\n${USAGE}`);
  }
  if (a.command !== 'list' && !a.all && a.ids.length === 0) throw new Error(`${a.command} needs --id <id> or --all`);
  return a;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const config = messagingConfigFromEnv();
  const names = new TopicNames(config.topicPrefix);
  const kafka = createKafka({ clientId: 'flowline-dlq' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const letters = await readDeadLetters(kafka, admin, names, args.topic);
    const dlqTopic = names.physical(args.topic.endsWith('.dlq') ? args.topic : `${args.topic}.dlq`);
    if (args.command === 'list') {
      if (args.json) return void process.stdout.write(`${JSON.stringify(letters.map(({ value: _v, headers: _h, ...l }) => l), null, 2)}\n`);
      process.stdout.write(`${letters.length} dead letter(s) in ${dlqTopic}\n`);
      for (const l of letters) {
        process.stdout.write(`${l.id.padEnd(10)} ${(l.eventId ?? '(undecodable)').padEnd(36)} ${(l.type ?? '-').padEnd(24)} attempts=${l.attempts ?? '-'} group=${l.group ?? '-'} at=${l.failedAt ?? '-'}\n           reason: ${l.reason}\n`);
      }
      return;
    }
    const chosen = selectDeadLetters(letters, args.ids, args.all);
    if (args.command === 'show') return void process.stdout.write(`${JSON.stringify(chosen, null, 2)}\n`);
    const publisher = new EventPublisher({ kafka, topicPrefix: '' });
    await publisher.connect();
    try {
      const n = await redriveDeadLetters(publisher, dlqTopic, chosen);
      process.stdout.write(`redrove ${n} dead letter(s) from ${dlqTopic}: ${chosen.map((l) => `${l.id} -> ${l.sourceTopic}`).join(', ')}\n`);
    } finally {
      await publisher.disconnect();
    }
  } finally {
    await admin.disconnect();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`dlq: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
