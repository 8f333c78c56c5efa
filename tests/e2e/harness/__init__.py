"""End-to-end test harness for the bastion.

    harness.util     subprocess/port/pid helpers, cleanup registry, logfmt
    harness.devices  Device (a real sshd per hospital device), TcpService
    harness.pam      PamFixture (pam_wrapper + pam_matrix "bastion" stack)
    harness.bastion  Bastion (bastiond launcher), World / make_world
    harness.softsk   SoftSK (software security key; separate module)

docs/TESTING.md describes how the pieces fit together.
"""
