/**
 * Demo stock for a running inventory service (REST): the SKUs seed-demo.ts orders, their rules and
 * opening stock per warehouse. Run it BEFORE the demo orders are paid, so reservations find stock:
 *   node -r @swc-node/register scripts/seed-inventory.ts     (INVENTORY_URL, default http://127.0.0.1:3002)
 * or `import { seedInventory } from '../services/inventory/src/demo/demo-stock'` from another seeder.
 * Idempotent: a second run changes nothing.
 */
import { seedInventory } from '../services/inventory/src/demo/demo-stock';

export { DEMO_SKUS, seedInventory } from '../services/inventory/src/demo/demo-stock';

if (require.main === module) {
  seedInventory().then(
    (r) => console.log(`seed-inventory: ${r.skus} SKUs, ${r.receipts} receipts`),
    (e: unknown) => {
      process.stderr.write(`seed-inventory failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
