import Crypto

extension StoredTensor {
    /// Hex SHA-256 of the elements in the stored dtype, little-endian, C order:
    /// a big-endian or Fortran-order file gives the same digest as its
    /// little-endian C-order twin, and the digest equals
    /// `hashlib.sha256(np.ascontiguousarray(a, a.dtype.newbyteorder('<')).tobytes()).hexdigest()`.
    public func sha256() throws -> String {
        try canonicalBytes().withUnsafeBytes { bytes in
            SHA256.hash(data: bytes).map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined()
        }
    }
}
