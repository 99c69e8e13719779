// The umbrella module: `import NICSim` brings in every layer an emulator links.
@_exported import Board
@_exported import NICCore
@_exported import UNDI
@_exported import OptionROM
@_exported import Machine
