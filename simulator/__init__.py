"""A local stand-in for the AutoCare REST API: deterministic data at any scale, a release
history, an oracle of what a correct load holds, and injectable faults.

Layers, pure first: `hashing`, `timeline`, `sizing`, `values`, `views`, `history`, `rows`,
`dataset` (the data); `oracle` (expected loads); `faults`, `tokens`, `paging`, `stats` (protocol
rules); `server` (aiohttp, the only I/O); `runner` and `__main__` (wiring and the CLI).
"""
