extension Duration {
    /// The duration in seconds, as a `Double` (what timings and profiles report).
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
