"""What a person sees: the command line, the terminal report, the pictures, output folders."""
