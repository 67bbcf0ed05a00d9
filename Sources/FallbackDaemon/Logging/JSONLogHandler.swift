#if canImport(Glibc)
import Glibc
#endif
import FallbackRPC
import FallbackStore
import Foundation
import Logging

/// `log_format = "json"`: one JSON object per line on stderr, `ts`, `level`, `label`, `message`,
/// then the metadata's dotted keys, for log shippers that parse lines.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        var object: JSON = [
            "ts": .string(ISOTimestamp.string(unixMillis: Int64(Date().timeIntervalSince1970 * 1000))),
            "level": .string(level.rawValue), "label": .string(label), "message": .string(message.description),
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit { merged.merge(explicit) { _, new in new } }
        for (key, value) in merged where object[key] == nil {
            object[key] = .string(value.description)
        }
        var bytes = object.serializedBytes
        bytes.append(UInt8(ascii: "\n"))
        // One write per line: lines from several threads never interleave inside a line.
        bytes.withUnsafeBytes { buffer in _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count) }
    }
}
