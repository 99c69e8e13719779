extension DHCPMessage {
    /// True when option 60 starts with "HTTPClient": UEFI HTTP Boot
    /// (UEFI 2.x §24.7.2), which expects a URL in option 67 and the same
    /// vendor class in the reply.
    public var isHTTPClient: Bool {
        guard let v = option(.vendorClassIdentifier) else { return false }
        return v.starts(with: Array("HTTPClient".utf8))
    }
}
