"""Processing provider `mist`: one algorithm per capability, each thin over `core`."""
