// The part of lunar-javascript (no bundled types) that the holiday calendar uses.
declare module 'lunar-javascript' {
  export class Solar {
    toYmd(): string;
  }
  export class Lunar {
    static fromYmd(year: number, month: number, day: number): Lunar;
    getSolar(): Solar;
  }
}
