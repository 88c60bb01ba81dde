/** A running fake of an external system (carrier, platform, SMS, ...), started by `npm start`. */
export interface StartedFake {
  /** Short name for the start log. */
  name: string;
  /** Variables merged into every service's environment (URLs, demo credentials). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export type FakeStarter = () => Promise<StartedFake>;
