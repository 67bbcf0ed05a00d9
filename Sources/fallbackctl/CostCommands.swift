import ArgumentParser
import FallbackClient
import FallbackRPC

/// `fallbackctl cost [--days N] [--weeks N] [--weekly] [--csv]`: spend per task and per model, or per week.
struct CostCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Show spend per task and per model (or per week), fallback share and extra cost.",
        discussion: """
            FALLBACK % is the share of served requests a fallback answered; FALLBACK EXTRA $ is what those \
            fallbacks cost minus what the chain's primary would have cost for the same tokens (negative: \
            they saved money). FAILED counts failed attempts and what the providers billed for them. \
            SHADOW counts shadow calls and their cost, which are not part of SPEND $. \
            --weekly shows the totals of each UTC week (Monday to Monday) instead; --csv prints the same \
            rows as CSV with every figure unrounded.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The period: the last N days, 1 to 3660 (the daemon's default is 7).", valueName: "N"))
    var days: Int?

    @Option(help: ArgumentHelp("Weeks in the weekly totals, 1 to 520 (the daemon's default is 8).", valueName: "N"))
    var weeks: Int?

    @Flag(help: "Show the week-by-week totals instead of the per-task and per-model tables.")
    var weekly = false

    @Flag(help: "Print CSV (a header, then the rows) instead of tables.")
    var csv = false

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func validate() throws {
        if let days, !(1...3_660).contains(days) { throw ValidationError("--days must be between 1 and 3660") }
        if let weeks, !(1...520).contains(weeks) { throw ValidationError("--weeks must be between 1 and 520") }
        if csv && json { throw ValidationError("--csv and --json do not go together") }
    }

    func run(with client: FallbackClient) throws(FallbackClientError) {
        let report = try client.costReport(days: days, weeks: weeks)
        if json {
            print((report.raw ?? report.json).serialized)
        } else if csv {
            Self.csvLines(report, weekly: weekly).forEach { print($0) }
        } else if weekly {
            print("weekly totals, \(report.weekly.count) UTC week\(report.weekly.count == 1 ? "" : "s") to "
                + "\(Output.trimmedISO(report.until)) (the newest may be partial):")
            Output.weeklyTable(report.weekly).print()
        } else {
            print("\(Output.period(days: report.days, since: report.since, until: report.until)):")
            print("\nby task:")
            Output.spendTable(report.byTask, keyTitle: "TASK", totals: report.totals).print()
            print("\nby model:")
            Output.spendTable(report.byModel, keyTitle: "MODEL", totals: report.totals).print()
        }
    }

    /// The CSV: `group,key,...` rows for tasks, models and the totals, or `week_start,...` rows with `weekly`.
    static func csvLines(_ report: SpendReport, weekly: Bool) -> [String] {
        if weekly {
            return [CSV.line(["week_start"] + Output.spendCSVHeader)]
                + report.weekly.map { CSV.line([$0.totals.key] + Output.spendCSV($0.totals)) }
        }
        let groups = report.byTask.map { ("task", $0) } + report.byModel.map { ("model", $0) } + [("total", report.totals)]
        return [CSV.line(["group", "key"] + Output.spendCSVHeader)]
            + groups.map { group, row in CSV.line([group, row.key] + Output.spendCSV(row)) }
    }
}

/// `fallbackctl shadow [--days N] [--csv]`: each shadow model against the model it shadowed.
struct ShadowCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "shadow",
        abstract: "Compare shadow models with the models they shadowed (success, latency, cost, similarity).",
        discussion: """
            PRIMARY OK and SHADOW OK are success rates over all comparisons. LATENCY and COST are the \
            shadow's mean latency and total cost as multiples of the primary's, and SIMILARITY the mean \
            token-set (Jaccard) similarity of the two outputs, all over the calls where both succeeded \
            (- when there were none).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The period: the last N days, 1 to 3660 (the daemon's default is 7).", valueName: "N"))
    var days: Int?

    @Flag(help: "Print CSV (a header, then one line per pair) instead of a table.")
    var csv = false

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func validate() throws {
        if let days, !(1...3_660).contains(days) { throw ValidationError("--days must be between 1 and 3660") }
        if csv && json { throw ValidationError("--csv and --json do not go together") }
    }

    func run(with client: FallbackClient) throws(FallbackClientError) {
        let report = try client.shadowReport(days: days)
        let period = Output.period(days: report.days, since: report.since, until: report.until)
        if json {
            print((report.raw ?? report.json).serialized)
        } else if csv {
            Output.shadowCSV(report.pairs).forEach { print($0) }
        } else if report.pairs.isEmpty {
            print("no shadow comparisons in the \(period)")
        } else {
            print("\(period):")
            Output.shadowTable(report.pairs).print()
        }
    }
}
