/// Cheap similarity between a served output and its shadow's, for `shadow.report`.
public enum Similarity {
    /// Token-set Jaccard similarity: |A ∩ B| / |A ∪ B| over the distinct lowercase words of each text,
    /// a word being a run of letters and digits (so case, punctuation, whitespace, order and repetition
    /// do not matter). 1.0 for two texts without words (both empty), 0.0 when only one has none.
    ///
    /// ```swift
    /// Similarity.jaccard("The cat sat.", "the CAT sat")   // 1.0
    /// Similarity.jaccard("a b c", "b c d")                // 0.5 (2 shared of 4)
    /// ```
    public static func jaccard(_ a: String, _ b: String) -> Double {
        let left = words(a)
        let right = words(b)
        if left.isEmpty && right.isEmpty { return 1 }
        if left.isEmpty || right.isEmpty { return 0 }
        let (small, large) = left.count <= right.count ? (left, right) : (right, left)
        let shared = small.reduce(0) { $0 + (large.contains($1) ? 1 : 0) }
        let union = left.count + right.count - shared
        return Double(shared) / Double(union)
    }

    /// The distinct lowercase words of `text`: maximal runs of letters and digits.
    static func words(_ text: String) -> Set<String> {
        var words = Set<String>()
        var current = ""
        for character in text {
            if character.isLetter || character.isNumber {
                current += character.lowercased()
            } else if !current.isEmpty {
                words.insert(current)
                current = ""
            }
        }
        if !current.isEmpty { words.insert(current) }
        return words
    }
}
