// A small SVG plotting library: figures of panels holding line and scatter series on linear or
// log10 axes, with ticks, labels, legends, annotations and a sequential colour map.
import Foundation

/// An sRGB colour.
public struct Color: Equatable, Sendable {
    public var red: Double
    public var green: Double
    public var blue: Double

    public init(red: Double, green: Double, blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// From "#rrggbb".
    public init(hex: String) {
        let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        let v = Int(digits, radix: 16) ?? 0
        self.init(red: Double((v >> 16) & 255) / 255, green: Double((v >> 8) & 255) / 255, blue: Double(v & 255) / 255)
    }

    public var hex: String {
        let c = { (x: Double) in Int((min(max(x, 0), 1) * 255).rounded()) }
        return String(format: "#%02x%02x%02x", c(red), c(green), c(blue))
    }

    public static let black = Color(hex: "#222222")
    public static let gray = Color(hex: "#888888")

    /// Distinguishable colours for categories (schedules, approaches, cycle lengths).
    public static let categorical: [Color] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                             "#8c564b", "#e377c2", "#17becf"].map { Color(hex: $0) }

    /// Sequential colour map from dark purple through blue and green to yellow-green, for ordered
    /// values such as log C. `t` is clamped to [0, 1]; the palest yellow is left out so every
    /// colour reads on white.
    public static func sequential(_ t: Double) -> Color {
        let stops = ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#bddf26"].map { Color(hex: $0) }
        let x = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        let f = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        return Color(red: a.red + f * (b.red - a.red), green: a.green + f * (b.green - a.green),
                     blue: a.blue + f * (b.blue - a.blue))
    }

    /// The sequential colour of `value` on a log scale between `low` and `high` (e.g. a budget C
    /// among the sweep's budgets).
    public static func sequential(logOf value: Double, low: Double, high: Double) -> Color {
        guard high > low, low > 0 else { return sequential(0.5) }
        return sequential((log10(value) - log10(low)) / (log10(high) - log10(low)))
    }
}

public enum Marker: Sendable {
    case none, circle, square, triangle, diamond, cross
}

/// A line and/or scatter series. A line breaks where a value is not finite (or not positive on a
/// log axis).
public struct Series: Sendable {
    public var name: String?
    public var xs: [Double]
    public var ys: [Double]
    public var color: Color
    public var lineWidth: Double
    /// Dash pattern in pixels, e.g. [6, 4]; empty for a solid line.
    public var dash: [Double]
    public var marker: Marker
    public var markerSize: Double
    public var opacity: Double
    /// Whether the points are joined by a line (false: scatter only).
    public var drawsLine: Bool
    /// Whether the series widens the automatic axis ranges (off for reference lines).
    public var fitsRange: Bool

    public init(name: String? = nil, xs: [Double], ys: [Double], color: Color = .black, lineWidth: Double = 1.6,
                dash: [Double] = [], marker: Marker = .none, markerSize: Double = 4.5, opacity: Double = 1,
                drawsLine: Bool = true, fitsRange: Bool = true) {
        self.name = name
        self.xs = xs
        self.ys = ys
        self.color = color
        self.lineWidth = lineWidth
        self.dash = dash
        self.marker = marker
        self.markerSize = markerSize
        self.opacity = opacity
        self.drawsLine = drawsLine
        self.fitsRange = fitsRange
    }

    public static func scatter(_ name: String? = nil, xs: [Double], ys: [Double], color: Color,
                               marker: Marker = .circle, size: Double = 4.5) -> Series {
        Series(name: name, xs: xs, ys: ys, color: color, marker: marker, markerSize: size, drawsLine: false)
    }
}

/// Text placed in a panel, in data coordinates or as fractions of the plot area ((0, 0) top left).
public struct Annotation: Sendable {
    public enum Position: Sendable {
        case data(x: Double, y: Double)
        case fraction(x: Double, y: Double)
    }
    public enum Anchor: String, Sendable {
        case start, middle, end
    }

    public var text: String
    public var position: Position
    public var anchor: Anchor
    public var color: Color
    public var fontSize: Double

    public init(_ text: String, at position: Position, anchor: Anchor = .start, color: Color = .black,
                fontSize: Double = 11) {
        self.text = text
        self.position = position
        self.anchor = anchor
        self.color = color
        self.fontSize = fontSize
    }
}

public struct AxisSpec: Sendable {
    public var label: String
    public var scale: AxisScale
    /// Fixed range; nil to fit the data with a small margin.
    public var range: ClosedRange<Double>?

    public init(_ label: String, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        self.label = label
        self.scale = scale
        self.range = range
    }
}

/// Where a panel's legend goes: outside to the right of the plot (never covers data), inside in a
/// chosen corner (on a white box), or nowhere.
public enum LegendPlacement: Sendable {
    case outsideRight
    case topLeft, topRight, bottomLeft, bottomRight
    case hidden
}

public struct Panel: Sendable {
    public var title: String
    public var x: AxisSpec
    public var y: AxisSpec
    public var series: [Series]
    public var annotations: [Annotation]
    public var legend: LegendPlacement

    public init(title: String = "", x: AxisSpec, y: AxisSpec, series: [Series] = [], annotations: [Annotation] = [],
                legend: LegendPlacement = .outsideRight) {
        self.title = title
        self.x = x
        self.y = y
        self.series = series
        self.annotations = annotations
        self.legend = legend
    }
}

/// A figure: a title over panels laid out in a grid, row by row.
public struct Figure: Sendable {
    public var title: String
    public var panels: [Panel]
    public var columns: Int
    /// Size of one panel's plot area, in pixels (margins and outside legends are added).
    public var plotWidth: Double
    public var plotHeight: Double

    public init(title: String = "", panels: [Panel], columns: Int = 2, plotWidth: Double = 360, plotHeight: Double = 260) {
        self.title = title
        self.panels = panels
        self.columns = max(1, columns)
        self.plotWidth = plotWidth
        self.plotHeight = plotHeight
    }
}

// MARK: - Layout constants

let fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"
let marginLeft = 66.0, marginRight = 18.0, marginTop = 30.0, marginBottom = 48.0
let legendRowHeight = 16.0, legendSample = 24.0

/// Rough width of a string in pixels at a font size (average glyph about 0.58 em in sans fonts).
func textWidth(_ s: String, fontSize: Double) -> Double { Double(s.count) * fontSize * 0.58 }

func legendWidth(_ panel: Panel) -> Double {
    let names = panel.series.compactMap(\.name)
    guard !names.isEmpty else { return 0 }
    return legendSample + 10 + (names.map { textWidth($0, fontSize: 11) }.max() ?? 0) + 12
}

extension Panel {
    /// Width of this panel's cell: margins, plot and any outside legend.
    func cellWidth(plotWidth: Double) -> Double {
        marginLeft + plotWidth + marginRight + (legend == .outsideRight ? legendWidth(self) : 0)
    }

    /// The axis range actually drawn: the fixed one, or the data's with a margin.
    func resolvedRange(_ axis: AxisSpec, values: (Series) -> [Double]) -> (Double, Double) {
        if let r = axis.range { return (r.lowerBound, r.upperBound) }
        var all: [Double] = []
        for s in series where s.fitsRange {
            all += values(s).filter { $0.isFinite && (axis.scale == .linear || $0 > 0) }
        }
        if all.isEmpty { all = series.flatMap(values).filter { $0.isFinite && (axis.scale == .linear || $0 > 0) } }
        guard var lo = all.min(), var hi = all.max() else { return axis.scale == .log10 ? (1, 10) : (0, 1) }
        switch axis.scale {
        case .log10:
            if hi <= lo { lo /= 1.5; hi *= 1.5 }
            let pad = pow(10, 0.05 * (log10(hi) - log10(lo)))
            return (lo / pad, hi * pad)
        case .linear:
            if hi <= lo { lo -= 1; hi += 1 }
            let pad = 0.06 * (hi - lo)
            return (lo - pad, hi + pad)
        }
    }

    /// The mappings of both axes for a plot area with its top-left corner at (left, top).
    public func mappings(left: Double, top: Double, width: Double, height: Double) -> (x: AxisMapping, y: AxisMapping) {
        let (x0, x1) = resolvedRange(x) { $0.xs }
        let (y0, y1) = resolvedRange(y) { $0.ys }
        return (AxisMapping(low: x0, high: x1, pixelLow: left, pixelHigh: left + width, scale: x.scale),
                AxisMapping(low: y0, high: y1, pixelLow: top + height, pixelHigh: top, scale: y.scale))
    }
}

// MARK: - Rendering

/// Escapes text for XML element content and attribute values.
public func xmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(c)
        }
    }
    return out
}

func fmt(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return r == r.rounded() ? String(Int(r)) : String(format: "%.2f", r)
}

extension Figure {
    /// The figure's size in pixels.
    public var size: (width: Double, height: Double) {
        let rows = (panels.count + columns - 1) / columns
        var width = 0.0
        for r in 0..<rows {
            let row = panels[(r * columns)..<min(panels.count, (r + 1) * columns)]
            width = max(width, row.map { $0.cellWidth(plotWidth: plotWidth) }.reduce(0, +))
        }
        let titleHeight = title.isEmpty ? 0.0 : 30.0
        return (max(width, 200), titleHeight + Double(rows) * (marginTop + plotHeight + marginBottom))
    }

    /// Standalone SVG text. `id` prefixes the element ids (clip paths), so several figures can be
    /// inlined in one HTML page.
    public func svg(id: String = "fig") -> String {
        let (width, height) = size
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" "
            + "viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" font-family=\"\(fontFamily)\" font-size=\"11\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        var top = 0.0
        if !title.isEmpty {
            out += "<text x=\"\(fmt(width / 2))\" y=\"21\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\" "
                + "fill=\"#222222\">\(xmlEscape(title))</text>\n"
            top = 30
        }
        let rows = (panels.count + columns - 1) / columns
        for r in 0..<rows {
            var left = 0.0
            for c in 0..<columns {
                let i = r * columns + c
                guard i < panels.count else { break }
                out += renderPanel(panels[i], left: left, top: top + Double(r) * (marginTop + plotHeight + marginBottom),
                                   clipID: "\(id)-clip\(i)")
                left += panels[i].cellWidth(plotWidth: plotWidth)
            }
        }
        return out + "</svg>\n"
    }

    func renderPanel(_ panel: Panel, left cellLeft: Double, top cellTop: Double, clipID: String) -> String {
        let left = cellLeft + marginLeft, top = cellTop + marginTop
        let (w, h) = (plotWidth, plotHeight)
        let (mx, my) = panel.mappings(left: left, top: top, width: w, height: h)
        var out = "<g>\n<clipPath id=\"\(clipID)\"><rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(w))\" "
            + "height=\"\(fmt(h))\"/></clipPath>\n"
        out += "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" fill=\"#fbfbfb\"/>\n"
        if !panel.title.isEmpty {
            out += "<text x=\"\(fmt(left + w / 2))\" y=\"\(fmt(top - 10))\" text-anchor=\"middle\" font-size=\"13\" "
                + "font-weight=\"bold\" fill=\"#222222\">\(xmlEscape(panel.title))</text>\n"
        }
        // Grid and ticks.
        let xt = ticks(low: mx.low, high: mx.high, scale: panel.x.scale)
        let yt = ticks(low: my.low, high: my.high, scale: panel.y.scale)
        for t in xt where mx.contains(t.value) {
            let px = fmt(mx.pixel(t.value))
            if t.isMajor {
                out += "<line x1=\"\(px)\" y1=\"\(fmt(top))\" x2=\"\(px)\" y2=\"\(fmt(top + h))\" stroke=\"#e3e3e3\"/>\n"
                out += "<line x1=\"\(px)\" y1=\"\(fmt(top + h))\" x2=\"\(px)\" y2=\"\(fmt(top + h + 5))\" stroke=\"#444444\"/>\n"
                out += "<text x=\"\(px)\" y=\"\(fmt(top + h + 17))\" text-anchor=\"middle\" fill=\"#333333\">"
                    + "\(xmlEscape(t.label))</text>\n"
            } else {
                out += "<line x1=\"\(px)\" y1=\"\(fmt(top + h))\" x2=\"\(px)\" y2=\"\(fmt(top + h + 3))\" stroke=\"#666666\"/>\n"
            }
        }
        for t in yt where my.contains(t.value) {
            let py = fmt(my.pixel(t.value))
            if t.isMajor {
                out += "<line x1=\"\(fmt(left))\" y1=\"\(py)\" x2=\"\(fmt(left + w))\" y2=\"\(py)\" stroke=\"#e3e3e3\"/>\n"
                out += "<line x1=\"\(fmt(left - 5))\" y1=\"\(py)\" x2=\"\(fmt(left))\" y2=\"\(py)\" stroke=\"#444444\"/>\n"
                out += "<text x=\"\(fmt(left - 8))\" y=\"\(py)\" dy=\"0.35em\" text-anchor=\"end\" fill=\"#333333\">"
                    + "\(xmlEscape(t.label))</text>\n"
            } else {
                out += "<line x1=\"\(fmt(left - 3))\" y1=\"\(py)\" x2=\"\(fmt(left))\" y2=\"\(py)\" stroke=\"#666666\"/>\n"
            }
        }
        // Axis labels.
        out += "<text x=\"\(fmt(left + w / 2))\" y=\"\(fmt(top + h + 36))\" text-anchor=\"middle\" font-size=\"12\" "
            + "fill=\"#222222\">\(xmlEscape(panel.x.label))</text>\n"
        let ly = top + h / 2, lx = cellLeft + 16
        out += "<text x=\"\(fmt(lx))\" y=\"\(fmt(ly))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222222\" "
            + "transform=\"rotate(-90 \(fmt(lx)) \(fmt(ly)))\">\(xmlEscape(panel.y.label))</text>\n"
        // Data, clipped to the plot area.
        out += "<g clip-path=\"url(#\(clipID))\">\n"
        for s in panel.series {
            out += renderSeries(s, mx, my)
        }
        out += "</g>\n"
        out += "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" fill=\"none\" "
            + "stroke=\"#444444\"/>\n"
        for a in panel.annotations {
            let (ax, ay): (Double, Double)
            switch a.position {
            case .data(let x, let y): (ax, ay) = (mx.pixel(x), my.pixel(y))
            case .fraction(let fx, let fy): (ax, ay) = (left + fx * w, top + fy * h)
            }
            guard ax.isFinite, ay.isFinite else { continue }
            out += "<text x=\"\(fmt(ax))\" y=\"\(fmt(ay))\" text-anchor=\"\(a.anchor.rawValue)\" font-size=\"\(fmt(a.fontSize))\" "
                + "fill=\"\(a.color.hex)\">\(xmlEscape(a.text))</text>\n"
        }
        out += renderLegend(panel, left: left, top: top, width: w, height: h)
        return out + "</g>\n"
    }

    func renderSeries(_ s: Series, _ mx: AxisMapping, _ my: AxisMapping) -> String {
        let n = min(s.xs.count, s.ys.count)
        // Points closer than half a pixel to the last one kept add nothing visible; dropping
        // them keeps long training curves small. The last point of each run is always kept.
        var points: [(Double, Double)?] = []
        points.reserveCapacity(n)
        var last: (Double, Double)? = nil
        for i in 0..<n {
            let px = mx.pixel(s.xs[i]), py = my.pixel(s.ys[i])
            guard px.isFinite && py.isFinite else {
                points.append(nil)
                last = nil
                continue
            }
            let nextIsGap = i + 1 == n || !(mx.pixel(s.xs[i + 1]).isFinite && my.pixel(s.ys[i + 1]).isFinite)
            if s.drawsLine, let (lx, ly) = last, abs(px - lx) < 0.5, abs(py - ly) < 0.5, !nextIsGap { continue }
            points.append((px, py))
            last = (px, py)
        }
        var out = ""
        let opacity = s.opacity < 1 ? " opacity=\"\(fmt(s.opacity))\"" : ""
        if s.drawsLine {
            let dash = s.dash.isEmpty ? "" : " stroke-dasharray=\"\(s.dash.map(fmt).joined(separator: " "))\""
            var run: [String] = []
            func flush() {
                if run.count > 1 {
                    out += "<polyline points=\"\(run.joined(separator: " "))\" fill=\"none\" stroke=\"\(s.color.hex)\" "
                        + "stroke-width=\"\(fmt(s.lineWidth))\" stroke-linejoin=\"round\"\(dash)\(opacity)/>\n"
                }
                run.removeAll(keepingCapacity: true)
            }
            for p in points {
                if let (x, y) = p { run.append("\(fmt(x)),\(fmt(y))") } else { flush() }
            }
            flush()
        }
        if s.marker != .none {
            for case let (x, y)? in points {
                out += markerSVG(s.marker, x: x, y: y, size: s.markerSize, color: s.color, extra: opacity)
            }
        }
        return out
    }

    func markerSVG(_ m: Marker, x: Double, y: Double, size r: Double, color: Color, extra: String = "") -> String {
        let paint = "fill=\"\(color.hex)\" stroke=\"#ffffff\" stroke-width=\"0.8\"\(extra)"
        switch m {
        case .none:
            return ""
        case .circle:
            return "<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"\(fmt(r))\" \(paint)/>\n"
        case .square:
            return "<rect x=\"\(fmt(x - r))\" y=\"\(fmt(y - r))\" width=\"\(fmt(2 * r))\" height=\"\(fmt(2 * r))\" \(paint)/>\n"
        case .triangle:
            return "<polygon points=\"\(fmt(x)),\(fmt(y - 1.2 * r)) \(fmt(x + 1.1 * r)),\(fmt(y + 0.8 * r)) "
                + "\(fmt(x - 1.1 * r)),\(fmt(y + 0.8 * r))\" \(paint)/>\n"
        case .diamond:
            return "<polygon points=\"\(fmt(x)),\(fmt(y - 1.3 * r)) \(fmt(x + r)),\(fmt(y)) \(fmt(x)),\(fmt(y + 1.3 * r)) "
                + "\(fmt(x - r)),\(fmt(y))\" \(paint)/>\n"
        case .cross:
            return "<path d=\"M\(fmt(x - r)),\(fmt(y - r))L\(fmt(x + r)),\(fmt(y + r))M\(fmt(x - r)),\(fmt(y + r))"
                + "L\(fmt(x + r)),\(fmt(y - r))\" stroke=\"\(color.hex)\" stroke-width=\"2\"\(extra)/>\n"
        }
    }

    func renderLegend(_ panel: Panel, left: Double, top: Double, width: Double, height: Double) -> String {
        let entries = panel.series.filter { $0.name != nil }
        guard !entries.isEmpty, panel.legend != .hidden else { return "" }
        let boxW = legendWidth(panel), boxH = Double(entries.count) * legendRowHeight + 8
        let (x0, y0): (Double, Double)
        switch panel.legend {
        case .outsideRight: (x0, y0) = (left + width + 8, top)
        case .topLeft: (x0, y0) = (left + 6, top + 6)
        case .topRight: (x0, y0) = (left + width - boxW - 6, top + 6)
        case .bottomLeft: (x0, y0) = (left + 6, top + height - boxH - 6)
        case .bottomRight: (x0, y0) = (left + width - boxW - 6, top + height - boxH - 6)
        case .hidden: return ""
        }
        var out = ""
        if panel.legend != .outsideRight {
            out += "<rect x=\"\(fmt(x0))\" y=\"\(fmt(y0))\" width=\"\(fmt(boxW))\" height=\"\(fmt(boxH))\" fill=\"#ffffff\" "
                + "fill-opacity=\"0.9\" stroke=\"#cccccc\"/>\n"
        }
        for (k, s) in entries.enumerated() {
            let cy = y0 + 4 + legendRowHeight * (Double(k) + 0.5)
            let sx = x0 + 6
            if s.drawsLine {
                let dash = s.dash.isEmpty ? "" : " stroke-dasharray=\"\(s.dash.map(fmt).joined(separator: " "))\""
                out += "<line x1=\"\(fmt(sx))\" y1=\"\(fmt(cy))\" x2=\"\(fmt(sx + legendSample))\" y2=\"\(fmt(cy))\" "
                    + "stroke=\"\(s.color.hex)\" stroke-width=\"\(fmt(max(s.lineWidth, 1.5)))\"\(dash)/>\n"
            }
            if s.marker != .none {
                out += markerSVG(s.marker, x: sx + legendSample / 2, y: cy, size: min(s.markerSize, 5), color: s.color)
            }
            out += "<text x=\"\(fmt(sx + legendSample + 6))\" y=\"\(fmt(cy))\" dy=\"0.35em\" fill=\"#222222\">"
                + "\(xmlEscape(s.name ?? ""))</text>\n"
        }
        return out
    }
}
