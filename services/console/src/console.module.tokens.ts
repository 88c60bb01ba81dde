/** DI tokens of the console (their own file: the module and the controllers both need them). */
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
export const CONSOLE_AUTH = Symbol('CONSOLE_AUTH');
/** The console database's pg Pool (sessions). */
export const CONSOLE_POOL = Symbol('CONSOLE_POOL');
