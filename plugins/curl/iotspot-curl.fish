# iotspot-curl takes curl's arguments.
complete -c iotspot-curl -w curl
