"""Audio sentiment core library: configuration, audio decoding and features.

Everything here is pure computation or thin I/O helpers; the Beam jobs in
``pipelines/`` wrap these functions in transforms.
"""
