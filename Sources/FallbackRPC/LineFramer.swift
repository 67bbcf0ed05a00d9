import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream into `\n`-terminated lines (a trailing `\r` is dropped), with a size cap.
///
/// Pure and channel-free: the connection handler feeds it what it reads.
public struct LineFramer: Sendable {
    /// A line grew past the cap before its newline arrived.
    public struct LineTooLong: Error, Sendable, Equatable {
        public var maxLineBytes: Int
    }

    public let maxLineBytes: Int
    static let discardThreshold = 64 * 1024
    private var buffer: ByteBuffer?
    // Bytes already searched for a newline, so a long line arriving in pieces is scanned once.
    private var scanned = 0

    public init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes received but not yet part of a complete line.
    public var pendingBytes: Int { buffer?.readableBytes ?? 0 }

    /// Bytes the framer's buffer keeps alive, consumed ones included.
    var retainedBytes: Int { buffer?.writerIndex ?? 0 }

    public mutating func append(_ bytes: inout ByteBuffer) {
        if buffer == nil {
            buffer = bytes
        } else {
            buffer?.writeBuffer(&bytes)
        }
    }

    /// The next complete line without its terminator, or `nil` when more bytes are needed.
    /// Empty lines are skipped.
    public mutating func nextLine() throws(LineTooLong) -> ByteBuffer? {
        while var current = buffer {
            let view = current.readableBytesView
            guard let newline = Self.firstNewline(in: view, after: scanned) else {
                scanned = view.count
                // One byte of slack for the `\r` of a `\r\n` whose `\n` has not arrived yet.
                let slack = view.last == UInt8(ascii: "\r") ? 1 : 0
                if view.count > maxLineBytes + slack { throw LineTooLong(maxLineBytes: maxLineBytes) }
                // A client that pipelines without ever pausing at a line boundary would otherwise keep every
                // consumed byte alive: drop them once they are worth a copy of the partial line.
                if current.readerIndex >= Self.discardThreshold {
                    buffer = nil
                    current.discardReadBytes()
                    buffer = current
                }
                return nil
            }
            let length = newline - view.startIndex
            scanned = 0
            guard length <= maxLineBytes + 1, var line = current.readSlice(length: length) else {
                throw LineTooLong(maxLineBytes: maxLineBytes)
            }
            current.moveReaderIndex(forwardBy: 1)
            buffer = current.readableBytes == 0 ? nil : current
            if line.readableBytesView.last == UInt8(ascii: "\r") {
                line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1) ?? line
            }
            if line.readableBytes > maxLineBytes { throw LineTooLong(maxLineBytes: maxLineBytes) }
            if line.readableBytes > 0 { return line }
        }
        return nil
    }

    /// The index of the first `\n` in `view` past its first `skip` bytes, found with `memchr`
    /// (a byte-at-a-time search cost 5 instructions per byte of a large prompt).
    static func firstNewline(in view: ByteBufferView, after skip: Int) -> ByteBufferView.Index? {
        let found = view.withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress, raw.count > skip else { return nil }
            guard let hit = memchr(base + skip, Int32(UInt8(ascii: "\n")), raw.count - skip) else { return nil }
            return UnsafeRawPointer(hit) - base
        }
        return found.map { view.startIndex + $0 }
    }

    /// What is left when the peer closes its side: an unterminated last line, if any.
    public mutating func finish() throws(LineTooLong) -> ByteBuffer? {
        defer {
            buffer = nil
            scanned = 0
        }
        guard var rest = buffer, rest.readableBytes > 0 else { return nil }
        if rest.readableBytesView.last == UInt8(ascii: "\r") { rest.moveWriterIndex(to: rest.writerIndex - 1) }
        if rest.readableBytes > maxLineBytes { throw LineTooLong(maxLineBytes: maxLineBytes) }
        return rest.readableBytes > 0 ? rest : nil
    }
}
