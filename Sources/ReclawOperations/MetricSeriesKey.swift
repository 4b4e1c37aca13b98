import Prometheus

extension Metrics {
    /// Which of one deployment's series a counter, gauge or histogram is: its family and its label
    /// values other than the deployment. A daemon keeps about ten per deployment for as long as the
    /// deployment exists, so the key holds no storage of its own: the family's name is a literal and
    /// label values as short as `Ready` or `success` are stored inline.
    struct SeriesKey: Hashable {
        let family: String
        /// The first label value besides the deployment; nil for a family with no other label.
        let first: String?
        let rest: String

        init(_ family: MetricNameDescriptor, _ labels: [(String, String)]) {
            self.init(family: family.metricName, labels)
        }

        init(family: String, _ labels: [(String, String)]) {
            self.family = family
            var values = labels.lazy.filter { $0.0 != "deployment" }.map(\.1).makeIterator()
            first = values.next()
            var rest = ""
            while let value = values.next() {
                if !rest.isEmpty { rest += "\u{1}" }
                rest += value
            }
            self.rest = rest
        }
    }
}
