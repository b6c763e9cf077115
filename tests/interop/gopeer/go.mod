module mutls.test/gopeer

go 1.19
