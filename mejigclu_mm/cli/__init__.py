"""What only the command-line tools in tools/ use: their shared options, output checks, run logs
and tables. Nothing here is imported by the rest of the package."""
