"""The command line: parse → build options → call a stage → print. No logic here."""
