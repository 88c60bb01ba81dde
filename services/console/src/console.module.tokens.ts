/** DI token of the console's configuration (its own file: the module and the controller both need it). */
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
