/// A plain-text table with aligned columns, for terminal output.
///
/// Columns are separated by two spaces; widths count characters (grapheme clusters), so
/// `→` and `·` line up. No line ends in spaces.
struct Table {
    enum Alignment {
        case left, right
    }

    struct Column {
        var title: String
        var alignment: Alignment

        init(_ title: String, _ alignment: Alignment = .left) {
            self.title = title
            self.alignment = alignment
        }
    }

    var columns: [Column]
    var rows: [[String]] = []
    /// Printed before every line (e.g. two spaces for a nested table).
    var indent = ""
    /// Whether the column titles form the first line.
    var showsHeader = true

    init(_ columns: [Column], indent: String = "", showsHeader: Bool = true) {
        self.columns = columns
        self.indent = indent
        self.showsHeader = showsHeader
    }

    /// A table without a header whose columns are all left-aligned.
    init(columnCount: Int, indent: String = "") {
        self.init(Array(repeating: Column(""), count: columnCount), indent: indent, showsHeader: false)
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    mutating func append(_ cells: [String]) {
        var row = Array(cells.prefix(columns.count))
        row += Array(repeating: "", count: columns.count - row.count)
        // A newline inside a cell would break the layout; show it escaped.
        rows.append(row.map { $0.replacingNewlines() })
    }

    /// The rendered lines, without trailing newlines.
    var lines: [String] {
        let allRows = (showsHeader ? [columns.map(\.title)] : []) + rows
        var widths = Array(repeating: 0, count: columns.count)
        for row in allRows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return allRows.map { row in
            var line = indent
            for (index, cell) in row.enumerated() {
                if index > 0 { line += "  " }
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                let isLast = index == row.count - 1
                switch columns[index].alignment {
                case .left: line += isLast ? cell : cell + padding
                case .right: line += padding + cell
                }
            }
            // Empty trailing cells would leave spaces at the end of the line.
            while line.last == " " && line.count > indent.count { line.removeLast() }
            return line
        }
    }

    /// The whole table, one line per row.
    var rendered: String { lines.joined(separator: "\n") }

    /// Prints the table to standard output (nothing for a table without rows or header).
    func print() {
        guard !rows.isEmpty || showsHeader else { return }
        Swift.print(rendered)
    }
}

extension String {
    /// The string with CR and LF shown as `\r` and `\n`, for one-line display.
    func replacingNewlines() -> String {
        guard contains(where: \.isNewline) else { return self }
        var out = ""
        for character in self {
            switch character {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\r\n": out += "\\r\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
