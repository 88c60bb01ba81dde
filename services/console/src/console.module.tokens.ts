/** DI tokens of the console (their own file: the module and the controllers both need them). */
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
export const CONSOLE_AUTH = Symbol('CONSOLE_AUTH');
