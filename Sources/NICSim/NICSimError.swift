/// An error a user can cause (a missing directory, an interface that can't
/// be opened, a server that never answered), with the one line that tells
/// them what to do. The CLI prints it as `nicsim: error: LINE` and exits
/// with `exitCode`.
public struct NICSimError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public var exitCode: Int32

    public init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }

    public init(description: String, exitCode: Int32 = 1) {
        self.init(description, exitCode: exitCode)
    }
}
