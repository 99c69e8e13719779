// The umbrella module: `import NICSim` brings in every layer an emulator links.
@_exported import Board
@_exported import BootServer
@_exported import Bridge
@_exported import Machine
@_exported import NE2000
@_exported import NICCore
@_exported import OptionROM
@_exported import PXE
@_exported import QTest
@_exported import RTL8139
@_exported import UNDI
@_exported import VirtioNet
@_exported import Wire
