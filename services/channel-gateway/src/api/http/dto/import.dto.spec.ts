import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { ImportUploadDto } from './import.dto';

const fields = (body: object) => validateSync(plainToInstance(ImportUploadDto, body), { whitelist: true, forbidNonWhitelisted: true }).map((e) => e.property);

describe('ImportUploadDto', () => {
  it('an upload without its file is refused naming `file` (it reached the service as a 500 before)', () => {
    expect(fields({ channel: 'pinduoduo' })).toContain('file');
    expect(fields({ channel: 'pinduoduo', dryRun: true })).toContain('file');
    expect(fields({ channel: 'pinduoduo', file: { name: 'a.csv', contentBase64: Buffer.from('订单号\n1\n').toString('base64') } })).toEqual([]);
  });
});
