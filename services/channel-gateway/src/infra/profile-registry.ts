import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Channel } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { PROFILE_SCHEMA, type MappingProfile } from '../domain/import/profile';

/** The default profiles shipped with the service (services/channel-gateway/profiles). */
export const DEFAULT_PROFILE_DIR = resolve(__dirname, '../../profiles');

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validate = ajv.compile<MappingProfile>(PROFILE_SCHEMA);

/** Parses and validates one profile (YAML or JSON text); refuses with PROFILE_INVALID naming each problem. */
export function parseProfile(text: string, source: string): MappingProfile {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new DomainError('PROFILE_INVALID', `${source}: not YAML: ${(e as Error).message}`, { source }, 'invalid');
  }
  if (!validate(data)) {
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
    throw new DomainError('PROFILE_INVALID', `${source}: ${errors.join('; ')}`, { source, errors }, 'invalid');
  }
  return data;
}

/** Which shipped profile a channel uses when none is named. */
const DEFAULTS: Record<Channel, string | null> = {
  taobao: 'taobao-classic',
  tmall: 'taobao-current',
  jd: 'jd',
  pinduoduo: 'pinduoduo',
  douyin: 'douyin',
  web: 'shopify',
  offline: 'offline-pos',
  api: null,
};

/** A profile as the console lists it: what to upload with it and which channels use it when none is named. */
export interface ProfileSummary {
  id: string;
  version: number;
  channel: Channel;
  description: string;
  /** The layout joins a second file, the items file (Taobao classic 宝贝报表): the upload's `items`. */
  itemsFile: boolean;
  /** The channels that import with this profile when the upload names none (the newest version only). */
  defaultFor: Channel[];
}

/**
 * Profiles by id: the shipped defaults plus every *.yaml in CHANNEL_PROFILE_DIRS (custom layouts).
 * A profile id may appear in several versions; `get(id)` is the highest, `get(id, v)` one version.
 */
export class ProfileRegistry {
  private byId = new Map<string, MappingProfile[]>();

  constructor(private readonly dirs: string[] = [DEFAULT_PROFILE_DIR]) {
    this.reload();
  }

  /**
   * Reads the profile directories again (a fixed or new profile dropped in takes effect for the next
   * import or re-mapping). A directory with an invalid profile keeps the profiles loaded before.
   */
  reload(): void {
    const previous = this.byId;
    this.byId = new Map();
    try {
      for (const dir of this.dirs) {
        for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) this.add(parseProfile(readFileSync(join(dir, f), 'utf8'), f));
      }
    } catch (e) {
      this.byId = previous;
      throw e;
    }
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): ProfileRegistry {
    const extra = (env.CHANNEL_PROFILE_DIRS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return new ProfileRegistry([DEFAULT_PROFILE_DIR, ...extra]);
  }

  add(p: MappingProfile): void {
    const list = (this.byId.get(p.id) ?? []).filter((x) => x.version !== p.version);
    list.push(p);
    list.sort((a, b) => b.version - a.version);
    this.byId.set(p.id, list);
  }

  list(): MappingProfile[] {
    return [...this.byId.values()].flat();
  }

  /** Every version, newest first per id, with what an upload needs (GET /api/profiles). */
  summaries(): ProfileSummary[] {
    return this.list().map((p) => ({
      id: p.id,
      version: p.version,
      channel: p.channel,
      description: p.description,
      itemsFile: p.lines.from === 'items-file',
      defaultFor: p === this.byId.get(p.id)?.[0] ? (Object.keys(DEFAULTS) as Channel[]).filter((c) => DEFAULTS[c] === p.id) : [],
    }));
  }

  get(id: string, version?: number): MappingProfile {
    const list = this.byId.get(id) ?? [];
    const p = version === undefined ? list[0] : list.find((x) => x.version === version);
    if (!p) throw new DomainError('PROFILE_NOT_FOUND', `no mapping profile ${id}${version ? `@${version}` : ''}`, { profile: id, version }, 'not_found');
    return p;
  }

  /** The profile for a channel: the named one, else the channel's default. */
  resolve(channel: Channel, profileId?: string): MappingProfile {
    const id = profileId ?? DEFAULTS[channel];
    if (!id) throw new DomainError('PROFILE_REQUIRED', `channel ${channel} has no default file layout: name a profile`, { channel }, 'invalid');
    return this.get(id);
  }
}
