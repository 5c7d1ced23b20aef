/** The interop matrix (peer × direction × operation → result), printed by each interop test file. */
export type MatrixRow = { pair: string; direction: string; operation: string; result: string };

export class Matrix {
  readonly rows: MatrixRow[] = [];

  record(pair: string, direction: string, operation: string, result: string): void {
    this.rows.push({ pair, direction, operation, result });
  }

  /** Markdown table lines. */
  lines(): string[] {
    return ['| peers | direction | operation | result |', '|---|---|---|---|', ...this.rows.map((r) => `| ${r.pair} | ${r.direction} | ${r.operation} | ${r.result} |`)];
  }
}
