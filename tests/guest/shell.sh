# shell: run commands from the console (the host pipes them into ringvm's stdin).
echo "RINGVM-SHELL"
exec sh
