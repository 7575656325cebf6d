//! A Go `text/tabwriter` equivalent for left-aligned, space-padded output without flags, which is
//! how kubeadm prints its tables (`tabwriter.NewWriter(w, minwidth, tabwidth, padding, ' ', 0)`).
//!
//! Semantics reproduced:
//! * a cell is text terminated by `\t` (or `\v`); the text after the last tab of a line is the
//!   line's trailing cell, which belongs to no column and is written unpadded;
//! * a column block is a maximal run of consecutive lines that all have a cell in that column;
//!   its width is the widest cell (in characters) plus `padding`, at least `minwidth`;
//! * every cell of a column, empty ones included, is padded with spaces to the block's width;
//! * `\n` ends a line; `\f` ends a line and also ends every column block (written as `\n`).
//!
//! `tabwidth` only matters when padding with tabs, so it is not a parameter here. Go's
//! `Flush` ends every column block too: a caller that flushes between rows (as kubeadm's
//! `token list` does after each token) calls [`tabwrite`] once per flushed chunk. The
//! computation is linear in the number of cells and not recursive, so hostile input (very many
//! tabs) cannot exhaust the stack.

/// One cell: its text and its width in characters (Go counts runes).
struct Cell<'a> {
    text: &'a str,
    width: usize,
}

/// One input line: its column cells, its trailing cell, and whether a `\f` ended it.
struct Line<'a> {
    columns: Vec<(Cell<'a>, usize)>, // (cell, index of its column block in `blocks`)
    trailing: &'a str,
    formfeed: bool,
}

/// Formats `text` like Go's tabwriter (kubeadm's tables: `certs check-expiration`, `token list`) with the given `minwidth` and `padding`, space padding.
pub fn tabwrite(text: &str, minwidth: usize, padding: usize) -> String {
    let mut blocks: Vec<usize> = Vec::new(); // width of each column block
    let mut open: Vec<usize> = Vec::new(); // open[j] = block index of column j, for the current run
    let mut lines: Vec<Line<'_>> = Vec::new();

    for (raw, formfeed) in split_lines(text) {
        let mut parts: Vec<&str> = raw.split(['\t', '\x0b']).collect();
        let trailing = parts.pop().unwrap_or("");
        // Columns this line lacks end their blocks.
        open.truncate(parts.len());
        let mut columns = Vec::with_capacity(parts.len());
        for (j, part) in parts.into_iter().enumerate() {
            let width = part.chars().count();
            let block = match open.get(j) {
                Some(&b) => b,
                None => {
                    blocks.push(minwidth);
                    let b = blocks.len() - 1;
                    open.push(b);
                    b
                }
            };
            if let Some(w) = blocks.get_mut(block) {
                *w = (*w).max(width.saturating_add(padding));
            }
            columns.push((Cell { text: part, width }, block));
        }
        if formfeed {
            open.clear();
        }
        lines.push(Line {
            columns,
            trailing,
            formfeed,
        });
    }

    let mut out = String::with_capacity(text.len() * 2);
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        for (cell, block) in &line.columns {
            out.push_str(cell.text);
            let width = blocks.get(*block).copied().unwrap_or(0);
            out.extend(std::iter::repeat_n(' ', width.saturating_sub(cell.width)));
        }
        out.push_str(line.trailing);
        if i < last || line.formfeed {
            out.push('\n');
        }
    }
    out
}

/// Splits on `\n` and `\f`, yielding each line and whether `\f` terminated it. Like Go's
/// writer, the text after the last terminator is a final (possibly empty) line.
fn split_lines(text: &str) -> impl Iterator<Item = (&str, bool)> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.find(['\n', '\x0c']) {
            Some(pos) => {
                let formfeed = s.get(pos..).is_some_and(|t| t.starts_with('\x0c'));
                rest = s.get(pos + 1..);
                Some((s.get(..pos).unwrap_or(""), formfeed))
            }
            None => {
                rest = None;
                Some((s, false))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::tabwrite;

    #[test]
    fn columns_padded_trailing_cell_not() {
        let got = tabwrite("a\tbb\tlast\nlonger-name\tc\tx\n", 10, 3);
        assert_eq!(got, "a             bb        last\nlonger-name   c         x\n");
    }

    #[test]
    fn empty_cells_are_padded() {
        let got = tabwrite("h1\th2\tH\n!MISSING! x\t\t\n", 10, 3);
        assert_eq!(got, "h1            h2        H\n!MISSING! x             \n");
    }

    #[test]
    fn line_without_tabs_ends_blocks() {
        let got = tabwrite("a\tb\n\nlong-cell-here\tc\n", 10, 3);
        assert_eq!(got, "a         b\n\nlong-cell-here   c\n");
    }

    #[test]
    fn blocks_nest_per_column() {
        // Column 1 of lines 1 and 3 are separate blocks (line 2 has no column 1),
        // while column 0 spans all three lines.
        let got = tabwrite("a\tbbbbbbbbbbbb\tx\nc\ty\ne\tf\tz\n", 10, 3);
        assert_eq!(
            got,
            "a         bbbbbbbbbbbb   x\n\
             c         y\n\
             e         f         z\n"
        );
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        let got = tabwrite("ééééééééé\tx\nb\ty\n", 10, 3);
        assert_eq!(got, format!("ééééééééé   x\nb{}y\n", " ".repeat(11)));
    }

    #[test]
    fn formfeed_ends_blocks_and_is_a_newline() {
        let got = tabwrite("a\tb\x0clong-cell-here\tc\n", 10, 3);
        assert_eq!(got, "a         b\nlong-cell-here   c\n");
    }

    #[test]
    fn no_final_newline_is_kept() {
        assert_eq!(tabwrite("a\tb", 10, 3), "a         b");
        assert_eq!(tabwrite("", 10, 3), "");
    }

    #[test]
    fn many_tabs_do_not_recurse() {
        let line = "x\t".repeat(100_000);
        let got = tabwrite(&line, 0, 1);
        assert_eq!(got.len(), 200_000);
    }
}
