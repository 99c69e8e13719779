/* The C ABI is written in Swift (Sources/NICSimC); this target carries its header. */
