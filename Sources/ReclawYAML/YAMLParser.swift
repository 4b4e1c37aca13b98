internal import CYAML

/// Parses YAML text into marked node trees, refusing hostile input within `YAMLLimits`.
public struct YAMLParser: Sendable {
    public var limits: YAMLLimits

    public init(limits: YAMLLimits = .default) {
        self.limits = limits
    }

    /// Parses every document of `text`.
    public func parse(_ text: String) throws(YAMLError) -> [YAMLDocument] {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses every document of raw file contents, checking size and encoding first.
    public func parse(bytes: [UInt8]) throws(YAMLError) -> [YAMLDocument] {
        if bytes.count > limits.maxInputBytes {
            throw YAMLError(
                code: .inputTooLarge,
                message: "input is \(bytes.count) bytes; the limit is \(limits.maxInputBytes) bytes")
        }
        try InputCheck.check(bytes)
        let handle = try LibYAMLParser(bytes: bytes)
        var builder = TreeBuilder(limits: limits)
        while true {
            let event = try handle.next(source: bytes)
            defer { event.release() }
            if try builder.consume(event.pointer) { break }
        }
        return builder.documents
    }
}

/// Owns one libyaml parser and the input it reads; freed in deinit.
private final class LibYAMLParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>

    init(bytes: [UInt8]) throws(YAMLError) {
        parser = .allocate(capacity: 1)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        guard yaml_parser_initialize(parser) == 1 else {
            parser.deallocate()
            input.deallocate()
            throw YAMLError(code: .syntax, message: "libyaml could not allocate a parser")
        }
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event; the caller releases it.
    func next(source: [UInt8]) throws(YAMLError) -> Event {
        let event = Event()
        if yaml_parser_parse(parser, event.pointer) != 1 {
            event.pointer.deallocate()
            throw error(source: source)
        }
        return event
    }

    private func error(source: [UInt8]) -> YAMLError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown error"
        let context = p.context.map { String(cString: $0) }
        let mark = SourceMark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1)
        if InputCheck.character(in: source, at: mark) == "\t" || problem.contains("tab") {
            return YAMLError(
                code: .tabIndentation,
                message: "a tab character is used for indentation; YAML indents with spaces (libyaml: \(problem))",
                mark: mark)
        }
        let message = context.map { "\($0): \(problem)" } ?? problem
        if problem.contains("UTF-8") || problem.contains("control characters") {
            return YAMLError(code: .invalidEncoding, message: message, mark: mark)
        }
        return YAMLError(code: .syntax, message: message, mark: mark)
    }

    /// One libyaml event, deleted by `release`.
    final class Event {
        let pointer: UnsafeMutablePointer<yaml_event_t> = .allocate(capacity: 1)

        func release() {
            yaml_event_delete(pointer)
            pointer.deallocate()
        }
    }
}

/// Turns the event stream into node trees, counting nodes and depth as it goes.
private struct TreeBuilder {
    /// An open collection; a class so appending to it never copies what it holds.
    final class Frame {
        let isMapping: Bool
        let mark: SourceMark
        let tag: String?
        let anchor: String?
        let startCount: Int
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?

        init(isMapping: Bool, mark: SourceMark, tag: String?, anchor: String?, startCount: Int) {
            self.isMapping = isMapping
            self.mark = mark
            self.tag = tag
            self.anchor = anchor
            self.startCount = startCount
        }

        var node: YAMLNode {
            YAMLNode(content: isMapping ? .mapping(pairs) : .sequence(items), mark: mark, tag: tag)
        }
    }

    let limits: YAMLLimits
    var documents: [YAMLDocument] = []
    var stack: [Frame] = []
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    var nodeCount = 0
    var documentMark = SourceMark(line: 1, column: 1)
    var root: YAMLNode?

    init(limits: YAMLLimits) {
        self.limits = limits
    }

    /// Consumes one event; true at the end of the stream.
    mutating func consume(_ event: UnsafeMutablePointer<yaml_event_t>) throws(YAMLError) -> Bool {
        let e = event.pointee
        let mark = SourceMark(line: Int(e.start_mark.line) + 1, column: Int(e.start_mark.column) + 1)
        switch e.type {
        case YAML_STREAM_END_EVENT:
            return true
        case YAML_DOCUMENT_START_EVENT:
            documentMark = mark
            root = nil
            anchors = [:]
        case YAML_DOCUMENT_END_EVENT:
            documents.append(YAMLDocument(root: root, mark: documentMark))
        case YAML_SCALAR_EVENT:
            let s = e.data.scalar
            let value = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            let node = YAMLNode(
                content: .scalar(YAMLScalar(value: value, style: Self.style(s.style))),
                mark: mark, tag: Self.string(s.tag))
            try count(1, at: mark)
            if let anchor = Self.string(s.anchor) { anchors[anchor] = (node, 1) }
            attach(node)
        case YAML_ALIAS_EVENT:
            let name = Self.string(e.data.alias.anchor) ?? ""
            guard let target = anchors[name] else {
                throw YAMLError(code: .undefinedAlias, message: "alias *\(name) names no anchor defined before it", mark: mark)
            }
            try count(target.size, at: mark)
            attach(target.node)
        case YAML_SEQUENCE_START_EVENT:
            let s = e.data.sequence_start
            try push(Frame(isMapping: false, mark: mark, tag: Self.string(s.tag), anchor: Self.string(s.anchor), startCount: nodeCount), at: mark)
        case YAML_MAPPING_START_EVENT:
            let m = e.data.mapping_start
            try push(Frame(isMapping: true, mark: mark, tag: Self.string(m.tag), anchor: Self.string(m.anchor), startCount: nodeCount), at: mark)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            let frame = stack.removeLast()
            let node = frame.node
            if let anchor = frame.anchor { anchors[anchor] = (node, nodeCount - frame.startCount) }
            attach(node)
        default:
            break
        }
        return false
    }

    private mutating func push(_ frame: Frame, at mark: SourceMark) throws(YAMLError) {
        if stack.count >= limits.maxDepth {
            throw YAMLError(
                code: .nestingTooDeep,
                message: "collections are nested more than \(limits.maxDepth) levels deep", mark: mark)
        }
        try count(1, at: mark)
        stack.append(frame)
    }

    private mutating func count(_ n: Int, at mark: SourceMark) throws(YAMLError) {
        nodeCount += n
        if nodeCount > limits.maxNodes {
            throw YAMLError(
                code: .aliasExpansionTooLarge,
                message: "the document expands to more than \(limits.maxNodes) nodes (an alias bomb?)", mark: mark)
        }
    }

    private mutating func attach(_ node: YAMLNode) {
        guard let top = stack.last else {
            root = node
            return
        }
        if !top.isMapping {
            top.items.append(node)
        } else if let key = top.pendingKey {
            top.pairs.append(YAMLPair(key: key, value: node))
            top.pendingKey = nil
        } else {
            top.pendingKey = node
        }
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let p else { return nil }
        return String(cString: UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
    }

    private static func style(_ s: yaml_scalar_style_t) -> YAMLScalar.Style {
        switch s {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }
}
