import { DataFormatError } from './errors.js';

export interface CsvOptions {
  /** The first line holds column names (default false). */
  header?: boolean;
  /** The field separator (default `,`). */
  delimiter?: string;
}

/** A parsed CSV file: column names (when there is a header) and rows of numbers. */
export interface CsvTable {
  header: string[] | null;
  rows: number[][];
}

// Decimal numbers as written by numpy, pandas and spreadsheets, plus nan / inf.
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL: Record<string, number> = { nan: Number.NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity };

/**
 * Parses numeric CSV text into rows of numbers. Every row must have as many fields as the
 * first; blank lines are skipped; fields may be padded with spaces or wrapped in double
 * quotes. A field that is not a number is an error naming its `line:column` (1-based).
 *
 * ```ts
 * const { header, rows } = readCsv('a,b\n1,2\n3,4.5\n', { header: true });
 * // header: ['a', 'b'], rows: [[1, 2], [3, 4.5]]
 * ```
 */
export function readCsv(text: string, opts: CsvOptions = {}): CsvTable {
  return parseCsv(text, opts, 'readCsv', null);
}

/** @internal `readCsv`, with errors that start with `who` and name `file` (`loadCsv: a.csv:3:7: ...`). */
export function parseCsv(text: string, opts: CsvOptions, who: string, file: string | null): CsvTable {
  const { header: hasHeader = false, delimiter = ',' } = opts;
  const at = (line: number, col?: number) => `${who}: ${file === null ? '' : `${file}:`}${line}${col === undefined ? '' : `:${col}`}`;
  if (delimiter.length === 0) throw new DataFormatError(`${who}: the delimiter must not be empty`);
  const lines = text.split('\n');
  let header: string[] | null = null;
  const rows: number[][] = [];
  let width = -1;
  let widthLine = 0;
  for (let ln = 0; ln < lines.length; ln++) {
    let line = lines[ln]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (ln === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1); // byte-order mark
    if (line.trim() === '') continue;
    const fields = line.split(delimiter);
    if (hasHeader && header === null) {
      header = fields.map((f) => unquote(f.trim()));
      width = fields.length;
      widthLine = ln + 1;
      continue;
    }
    if (width < 0) {
      width = fields.length;
      widthLine = ln + 1;
    } else if (fields.length !== width) {
      throw new DataFormatError(`${at(ln + 1)}: ${fields.length} fields, expected ${width} (as on line ${widthLine})`);
    }
    const row = new Array<number>(fields.length);
    let col = 1;
    for (let k = 0; k < fields.length; k++) {
      const raw = fields[k]!;
      const f = unquote(raw.trim());
      let v: number | undefined;
      if (NUMBER.test(f)) v = Number(f);
      else v = SPECIAL[f.toLowerCase()];
      if (v === undefined) {
        const c = col + (raw.length - raw.trimStart().length);
        throw new DataFormatError(`${at(ln + 1, c)}: field ${k + 1} is not a number: ${JSON.stringify(raw.trim())}`);
      }
      row[k] = v;
      col += raw.length + delimiter.length;
    }
    rows.push(row);
  }
  return { header, rows };
}

function unquote(f: string): string {
  return f.length >= 2 && f.startsWith('"') && f.endsWith('"') ? f.slice(1, -1).trim() : f;
}
