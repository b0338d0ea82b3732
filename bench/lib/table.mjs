// A plain-text table (also valid Markdown), columns padded to their widest cell.

/**
 * @param {string[]} header
 * @param {(string | number | null | undefined)[][]} rows
 * @param {("l" | "r")[]} [align]
 */
export function table(header, rows, align = []) {
  const cells = [header, ...rows].map((r) => r.map((c) => String(c ?? "")));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const pad = (/** @type {string} */ c, /** @type {number} */ i) => (align[i] === "r" ? c.padStart(widths[i]) : c.padEnd(widths[i]));
  const line = (/** @type {string[]} */ r) => `| ${r.map(pad).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

/** 1234567.8 -> "1,234,568" @param {number} n */
export const int = (n) => Math.round(n).toLocaleString("en-US");

/** 12.345 -> "12.35" @param {number} n */
export const fixed = (n, digits = 2) => n.toFixed(digits);
