import Metrics
import Synchronization

/// A metric's name and label values, in the order given.
struct MetricKey: Hashable, Sendable {
    var name: String
    var labels: [String]
}

/// A swift-metrics handle, made once per series and reused.
enum MetricHandle: Sendable {
    case counter(Counter)
    case floatCounter(FloatingPointCounter)
    case timer(Metrics.Timer)
    case recorder(Recorder)
    case gauge(Gauge)
}

extension DaemonMetrics {
    func counter(_ name: String, _ labels: KeyValuePairs<String, String>) -> Counter {
        let handle = cached(name, labels) { dimensions in .counter(Counter(label: name, dimensions: dimensions, factory: factory)) }
        if case .counter(let counter) = handle { return counter }
        return Counter(label: name, dimensions: Self.dimensions(labels), factory: factory)
    }

    func floatCounter(_ name: String, _ labels: KeyValuePairs<String, String>) -> FloatingPointCounter {
        let handle = cached(name, labels) { dimensions in
            .floatCounter(FloatingPointCounter(label: name, dimensions: dimensions, factory: factory))
        }
        if case .floatCounter(let counter) = handle { return counter }
        return FloatingPointCounter(label: name, dimensions: Self.dimensions(labels), factory: factory)
    }

    func timer(_ name: String, _ labels: KeyValuePairs<String, String>) -> Metrics.Timer {
        let handle = cached(name, labels) { dimensions in .timer(Metrics.Timer(label: name, dimensions: dimensions, factory: factory)) }
        if case .timer(let timer) = handle { return timer }
        return Metrics.Timer(label: name, dimensions: Self.dimensions(labels), factory: factory)
    }

    /// A histogram of plain values (token counts).
    func recorder(_ name: String, _ labels: KeyValuePairs<String, String>) -> Recorder {
        let handle = cached(name, labels) { dimensions in
            .recorder(Recorder(label: name, dimensions: dimensions, aggregate: true, factory: factory))
        }
        if case .recorder(let recorder) = handle { return recorder }
        return Recorder(label: name, dimensions: Self.dimensions(labels), aggregate: true, factory: factory)
    }

    func gauge(_ name: String, _ labels: KeyValuePairs<String, String>) -> Gauge {
        let handle = cached(name, labels) { dimensions in .gauge(Gauge(label: name, dimensions: dimensions, factory: factory)) }
        if case .gauge(let gauge) = handle { return gauge }
        return Gauge(label: name, dimensions: Self.dimensions(labels), factory: factory)
    }

    private func cached(
        _ name: String, _ labels: KeyValuePairs<String, String>, make: ([(String, String)]) -> MetricHandle
    ) -> MetricHandle {
        let key = MetricKey(name: name, labels: labels.map(\.value))
        if let handle = handlesLock.withLock({ $0[key] }) { return handle }
        let handle = make(Self.dimensions(labels))
        return handlesLock.withLock { handles in
            if let existing = handles[key] { return existing }
            handles[key] = handle
            return handle
        }
    }

    static func dimensions(_ labels: KeyValuePairs<String, String>) -> [(String, String)] {
        labels.map { ($0.key, $0.value) }
    }
}
