import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTable } from '../infra/file-reader';
import { ProfileRegistry } from '../infra/profile-registry';
import type { ChannelStore } from './channel-store.port';
import { ImportService } from './import.service';
import type { OrderIntakePort } from './order-intake.port';

const F = join(__dirname, '../../test/fixtures');

describe('a file that does not fit the channel default layout', () => {
  it('is refused naming the profiles it does fit (a Tmall seller with the classic 订单报表 is told taobao-classic)', async () => {
    // Nothing is stored or placed before the columns are checked: store and order-intake stay unused.
    const service = new ImportService({ store: {} as ChannelStore, orderIntake: {} as OrderIntakePort, profiles: new ProfileRegistry(), readTable, now: () => new Date() });
    const file = { name: 'ExportOrderList.csv', bytes: readFileSync(join(F, 'taobao-classic-orders.gbk.csv')) };
    const refused = service.run({ channel: 'tmall', file });
    await expect(refused).rejects.toMatchObject({ code: 'IMPORT_COLUMNS_MISSING', details: { suggestedProfiles: ['taobao-classic'] } });
    await expect(service.run({ channel: 'tmall', file })).rejects.toThrow(/import it with profile taobao-classic/);
    // A profile chosen by the seller is taken at its word: no hint.
    await expect(service.run({ channel: 'tmall', file, profileId: 'taobao-current' })).rejects.not.toHaveProperty('details.suggestedProfiles');
  });
});
