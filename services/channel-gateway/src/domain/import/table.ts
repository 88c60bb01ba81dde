/** A file's rows after decoding and parsing (CSV or XLSX), before any mapping. */
export interface Table {
  headers: string[];
  /** rowNumber is the 1-based line of the row in the sheet as a person sees it (header = 1). */
  rows: { rowNumber: number; cells: string[] }[];
}
