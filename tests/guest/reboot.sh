# reboot: the guest asks for a reset; ringvm must exit with the reboot status.
echo "RINGVM-REBOOTING"
reboot -f
sleep 30
