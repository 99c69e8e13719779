import ArgumentParser
import NICSim

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses, runs, and turns every failure into one line on stderr and an
/// exit code: 2 for a usage error, 1 (or the command's own code) for a
/// failure at run time. Never a trap or a stack trace.
@main
enum EntryPoint {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: ParsableCommand
        do {
            command = try Nicsim.parseAsRoot(arguments)
        } catch {
            let code = Nicsim.exitCode(for: error)
            if code == .success {
                print(Nicsim.fullMessage(for: error))
                exit(0)
            }
            fail(Nicsim.message(for: error), code: 2)
        }
        do {
            try command.run()
        } catch let exitCode as ExitCode {
            exit(exitCode.rawValue)
        } catch let error as CLIError {
            fail(error.description, code: error.exitCode)
        } catch {
            let code = Nicsim.exitCode(for: error)
            if code == .success {
                // `help` and `--help` arrive here as a clean exit from the help command.
                print(Nicsim.fullMessage(for: error))
                exit(0)
            }
            fail(Nicsim.message(for: error), code: code.rawValue == 64 ? 2 : 1)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? "failed"
        let text = line.hasPrefix("Error: ") ? String(line.dropFirst(7)) : line
        var stderr = StandardError()
        print("nicsim: error: \(text)", to: &stderr)
        exit(code)
    }
}

/// Unbuffered standard error (file descriptor 2).
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { p in _ = Glibc.write(2, p.baseAddress, p.count) }
    }
}
