/*
 * `npm run import -- <file> --channel <c> [--items <file>] [--profile <id>] [--dry-run] [--json]`:
 * imports a platform export through channel-gateway's import pipeline (services/channel-gateway/src/cli/import.ts).
 */
import { main } from '../services/channel-gateway/src/cli/import';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`import failed: ${(e as Error).stack}\n`);
    process.exit(1);
  },
);
