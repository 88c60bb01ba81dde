import Module, { createRequire } from 'node:module';

/**
 * Code that a service process would load at boot and never run (issue #10 item 6: idle RSS <= 150
 * MiB). Two libraries require more than Flowline uses, at their top level:
 *
 * - TypeORM's DriverFactory requires all 17 drivers and their query runners (~1.3 MB of source,
 *   ~2 MiB of heap) although every Flowline DataSource is `postgres`;
 * - class-validator's IsPhoneNumber requires libphonenumber-js/max and its metadata (~0.7 MB,
 *   ~1.7 MiB of heap) at import; no Flowline DTO validates a phone number that way.
 *
 * {@link deferUnusedModules} puts stand-ins for those two modules into Node's CommonJS cache before
 * the libraries are loaded: the real module is required on first use, so behaviour is unchanged
 * (a non-postgres DataSource still gets its driver; isPhoneNumber still validates).
 * It must run before the first `require('typeorm')` / `require('class-validator')`:
 * `@flowline/platform` calls it first thing. If either is already loaded, it changes nothing.
 */
const localRequire = createRequire(__filename);

export function deferUnusedModules(): void {
  deferTypeormDrivers();
  const classValidator = resolveFrom('class-validator');
  if (classValidator) deferModule(createRequire(classValidator), 'libphonenumber-js/max');
}

/** `require.resolve(request)`, undefined when the package is not installed. */
function resolveFrom(request: string, base: NodeJS.Require = localRequire): string | undefined {
  try {
    return base.resolve(request);
  } catch {
    return undefined;
  }
}

/** A module in the CommonJS cache at `path` whose exports are `exports` (not evaluated from a file). */
function cacheStandIn(path: string, exports: unknown): void {
  const standIn = new Module(path);
  standIn.filename = path;
  standIn.loaded = true;
  standIn.exports = exports;
  localRequire.cache[path] = standIn;
}

/** The real module at `path`, loaded once, while the stand-in stays in the cache for everyone else. */
function loadReal(path: string): unknown {
  const standIn = localRequire.cache[path];
  delete localRequire.cache[path];
  try {
    return localRequire(path) as unknown;
  } finally {
    if (standIn) localRequire.cache[path] = standIn;
  }
}

/**
 * Replaces `request` (as `from` resolves it) by an object that requires the real module on the first
 * property read. Fits modules whose importers read a property at call time (`(0, m.fn)(...)`).
 */
export function deferModule(from: NodeJS.Require, request: string): void {
  const path = resolveFrom(request, from);
  if (!path || localRequire.cache[path]) return;
  let real: Record<PropertyKey, unknown> | undefined;
  const load = () => (real ??= loadReal(path) as Record<PropertyKey, unknown>);
  cacheStandIn(
    path,
    new Proxy({} as Record<PropertyKey, unknown>, {
      get: (_target, key) => load()[key],
      has: (_target, key) => key in load(),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_target, key) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), key);
        return d && { ...d, configurable: true };
      },
    }),
  );
}

interface DriverFactoryLike {
  create(dataSource: { options: { type: string } }): unknown;
}

/** typeorm/driver/DriverFactory with PostgresDriver only; any other type goes to TypeORM's own factory. */
function deferTypeormDrivers(): void {
  const path = resolveFrom('typeorm/driver/DriverFactory');
  if (!path || localRequire.cache[path]) return;
  const factoryPath = path;
  let full: (new () => DriverFactoryLike) | undefined;
  class DriverFactory implements DriverFactoryLike {
    create(dataSource: { options: { type: string } }): unknown {
      if (dataSource.options.type === 'postgres') {
        const { PostgresDriver } = localRequire('typeorm/driver/postgres/PostgresDriver') as { PostgresDriver: new (ds: unknown) => unknown };
        return new PostgresDriver(dataSource);
      }
      full ??= (loadReal(factoryPath) as { DriverFactory: new () => DriverFactoryLike }).DriverFactory;
      return new full().create(dataSource);
    }
  }
  cacheStandIn(path, { DriverFactory });
}

// On import: libs/platform/src/index.ts imports this module first, before anything requires TypeORM or class-validator.
deferUnusedModules();
