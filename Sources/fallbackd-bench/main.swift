// fallbackd-bench: measures fallbackd's own overhead against a local upstream. See BenchCommand.swift.
await BenchCommand.start()
