#if canImport(Glibc)
import Glibc
#endif
import FallbackProviders
import Foundation

/// Reads a secret (a provider key, the facade's bearer token) from an environment variable or a file.
///
/// A file readable by group or others is refused, as ssh refuses such a private key, unless the table
/// sets `allow_shared_key_file = true`.
enum SecretLoader {
    /// The secret named by `envKey` or `fileKey` of `reader`'s table; `nil` when neither is set.
    /// A variable that is unset or empty, or an unreadable file, is a warning and gives `nil`
    /// (the caller decides whether that is fatal); a file others can read is an error.
    static func load(
        _ reader: inout TOMLReader, envKey: String, fileKey: String, what: String, environment: [String: String],
        warnings: inout [String], consequence: String = ""
    ) throws(ConfigError) -> APIKey? {
        let variable = try reader.string(envKey)
        let named = try reader.string(fileKey)
        let allowShared = try reader.bool("allow_shared_key_file") ?? false
        if variable != nil, named != nil {
            throw ConfigError(key: reader.key(envKey), "give \(envKey) or \(fileKey), not both")
        }
        if let variable {
            guard let value = environment[variable], !APIKey(value).isEmpty else {
                warnings.append("\(reader.key(envKey)): environment variable \(variable) is not set; \(what) is missing\(consequence)")
                return nil
            }
            return APIKey(value)
        }
        guard let named else { return nil }
        let file = reader.filePath(named)
        var info = stat()
        guard stat(file, &info) == 0 else {
            warnings.append("\(reader.key(fileKey)): cannot read \(file) (\(String(cString: strerror(errno)))); \(what) is missing\(consequence)")
            return nil
        }
        if info.st_mode & 0o077 != 0, !allowShared {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw ConfigError(
                key: reader.key(fileKey),
                "\(file) has mode 0\(mode): group or others can read it. Run `chmod 600 \(file)`, or set allow_shared_key_file = true in this table")
        }
        guard let data = FileManager.default.contents(atPath: file),
            let value = String(data: data, encoding: .utf8), !APIKey(value).isEmpty
        else {
            warnings.append("\(reader.key(fileKey)): \(file) holds no key; \(what) is missing\(consequence)")
            return nil
        }
        return APIKey(value)
    }
}
