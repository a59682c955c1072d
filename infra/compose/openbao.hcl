# OpenBao under compose: a real server (not -dev). Its raft storage is the
# `baodata` volume, so transit keys outlive `make down`/`make up` with the
# PostgreSQL data they encrypt; the `vault-unseal` job initialises it once (the
# key file is the `vaultkeys` volume) and unseals it at every `make up`.
storage "raft" {
  path    = "/openbao/file"
  node_id = "openbao"
  # raft's production timing (the default is 5x): a lone node leads, and
  # sys/init answers, after 1-2 s rather than 5-10 s
  performance_multiplier = 1
}

listener "tcp" {
  address         = "0.0.0.0:8200"
  cluster_address = "0.0.0.0:8201"
  tls_cert_file   = "/run/secrets/openbao-tls-cert"
  tls_key_file    = "/run/secrets/openbao-tls-key"
}

api_addr     = "https://openbao:8200"
cluster_addr = "https://openbao:8201"
ui           = false
