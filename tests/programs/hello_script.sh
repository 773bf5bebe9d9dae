#!/bin/sh
# hello_script: runs through its #! line; shows what the interpreter received.
echo "hello from sh"
echo "0: $0"
echo "argc: $#"
for arg in "$@"; do
  echo "arg: $arg"
done
